"""The tokens of a tokenizer that can spell Starjob solution text: surfaces, a prefix trie, and spelling.

Shared by guaranteed decoding (which tokens may start a candidate operation, how to spell forced text) and the
diagnostics (which tokens name a job). Every token's surface text is read off the tokenizer's own decoder
(byte-level BPE, SentencePiece "▁" pieces and ``<0x..>`` byte fallback all decode to plain text).
"""

from __future__ import annotations

import weakref

from ..core.candidates import CANDIDATE_SEPARATOR, CANDIDATES_PREFIX, CHOICE_MARK, FIELDS, LABEL_LETTERS
from ..core.codec import MAKESPAN_PREFIX, OPERATION_SEPARATOR, SOLUTION_HEADER


# Every character a guaranteed solution can contain (candidate lines included); tokens made of anything else can
# never be emitted.
SOLUTION_ALPHABET = frozenset(
    "0123456789"
    + SOLUTION_HEADER
    + MAKESPAN_PREFIX
    + OPERATION_SEPARATOR
    + CANDIDATES_PREFIX
    + CANDIDATE_SEPARATOR
    + CHOICE_MARK
    + LABEL_LETTERS
    + "".join(FIELDS)
    + "JM-:+> \n"
)


class TokenVocabulary:
    """The tokens that can spell Starjob solution text, by surface string: a trie for prefix queries, and spelling.

    ``surface(id)`` is the text a token adds when decoded after other text (a SentencePiece ``▁J`` is ``" J"``, a
    byte-level ``ĠJ`` too, ``<0x4A>`` is ``"J"``). Only tokens made of ``SOLUTION_ALPHABET`` characters are kept.
    """

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer
        self.surfaces: dict[int, str] = {}
        self._root: list = [{}, []]  # [children by character, ids whose surface ends here]
        self._spelled: dict[str, list[int]] = {}
        self._encode = _fast_encoder(tokenizer)
        for token_id, surface in _token_surfaces(tokenizer).items():
            if surface and set(surface) <= SOLUTION_ALPHABET:
                self.surfaces[token_id] = surface
                node = self._root
                for char in surface:
                    node = node[0].setdefault(char, [{}, []])
                node[1].append(token_id)
        if not self.surfaces:
            raise ValueError("the tokenizer has no token that can spell Starjob solution text")
        # When several ids share a surface (a piece and its byte-fallback twin), spell with the tokenizer's own choice.
        self._preferred: dict[str, int] = {}
        for token_id, surface in sorted(self.surfaces.items()):
            own = self._encode(surface)
            if len(own) == 1 and own[0] == token_id:
                self._preferred[surface] = token_id
            else:
                self._preferred.setdefault(surface, token_id)

    @classmethod
    def of(cls, tokenizer) -> TokenVocabulary:
        """The vocabulary of ``tokenizer``, built once per tokenizer object (it reads every token)."""
        key = id(tokenizer)
        entry = _VOCABULARIES.get(key)
        if entry is not None and entry[0]() is tokenizer:
            return entry[1]
        vocabulary = cls(tokenizer)
        try:
            _VOCABULARIES[key] = (weakref.ref(tokenizer), vocabulary)
        except TypeError:  # not weak-referenceable: do not cache
            pass
        return vocabulary

    def prefix_tokens(self, text: str, min_length: int = 1) -> list[tuple[int, int]]:
        """``(token_id, surface_length)`` of every token whose surface is a prefix of ``text`` at least this long."""
        found = []
        node = self._root
        for depth, char in enumerate(text, start=1):
            node = node[0].get(char)
            if node is None:
                break
            if node[1] and depth >= min_length:
                found.extend((token_id, depth) for token_id in node[1])
        return found

    def preferred_id(self, surface: str) -> int:
        """The id to spell ``surface`` with when several tokens share it (the tokenizer's own choice if any)."""
        return self._preferred[surface]

    def spell(self, text: str) -> list[int]:
        """Token ids whose surfaces concatenate to ``text``: the tokenizer's own encoding when it decodes back exactly,
        else the fewest tokens. ``ValueError`` when the vocabulary cannot spell it."""
        cached = self._spelled.get(text)
        if cached is not None:
            return cached
        ids = self._encode(text)
        if "".join(self.surfaces.get(i, "\0") for i in ids) != text:
            ids = self._fewest_tokens(text)
        if len(self._spelled) > 200_000:
            self._spelled.clear()
        self._spelled[text] = ids
        return ids

    def _fewest_tokens(self, text: str) -> list[int]:
        """Shortest spelling by dynamic programming over the trie (longer tokens first on ties)."""
        n = len(text)
        best: list[tuple[int, int, int] | None] = [None] * (n + 1)  # (count, previous position, token id)
        best[0] = (0, -1, -1)
        for i in range(n):
            if best[i] is None:
                continue
            count = best[i][0] + 1
            for length in sorted({length for _, length in self.prefix_tokens(text[i:])}):
                j = i + length
                if best[j] is None or count < best[j][0] or (count == best[j][0] and best[j][1] > i):
                    best[j] = (count, i, self._preferred[text[i:j]])
        if best[n] is None:
            reachable = max(i for i in range(n + 1) if best[i] is not None)
            raise ValueError(f"the tokenizer has no tokens that spell {text[reachable : reachable + 20]!r}")
        ids, j = [], n
        while j > 0:
            _, i, token_id = best[j]
            ids.append(token_id)
            j = i
        return ids[::-1]


_VOCABULARIES: dict[int, tuple[weakref.ref, TokenVocabulary]] = {}


def _fast_encoder(tokenizer):
    """``text -> ids`` without special tokens, straight through the Rust backend when there is one."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        return lambda text: backend.encode(text, add_special_tokens=False).ids
    return lambda text: tokenizer.encode(text, add_special_tokens=False)


def _token_surfaces(tokenizer) -> dict[int, str]:
    """Each non-special token's surface: ``decode([anchor, t])`` minus ``decode([anchor])``.

    Decoding after an anchor keeps the leading space that SentencePiece-style decoders strip from a text's first
    token. Tokens whose text does not extend the anchor's (partial UTF-8 bytes, ...) are left out.
    """
    special = set(tokenizer.all_special_ids)
    special.update(i for i, token in getattr(tokenizer, "added_tokens_decoder", {}).items() if token.special)
    anchor_ids = _fast_encoder(tokenizer)("J")
    if not anchor_ids:
        raise ValueError("the tokenizer cannot encode 'J'")
    anchor = anchor_ids[-1]
    ids = [i for i in range(len(tokenizer)) if i not in special]
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        prefix = backend.decode([anchor], skip_special_tokens=False)
        texts = backend.decode_batch([[anchor, i] for i in ids], skip_special_tokens=False)
    else:

        def decode(token_ids):
            return tokenizer.decode(token_ids, skip_special_tokens=False, clean_up_tokenization_spaces=False)

        prefix = decode([anchor])
        texts = [decode([anchor, i]) for i in ids]
    return {
        i: text[len(prefix) :] for i, text in zip(ids, texts) if text.startswith(prefix) and len(text) > len(prefix)
    }
