# jssp-sft scheduling service, CPU image:  make image   (or: docker build -t jssp-sft:cpu .)
#
#   docker run -p 8000:8000 -v $PWD/outputs/tiny-sft:/model:ro jssp-sft:cpu                 # a run directory
#   docker run -p 8000:8000 -e HF_TOKEN jssp-sft:cpu serve --host 0.0.0.0 --model user/model  # a Hub id
#
# BASE_IMAGE: any Debian/Ubuntu image with python3 (>= 3.10) and its venv module, or one that already holds a
# virtual environment in /opt/venv. PIP_ARGS: extra pip options, e.g. "--no-index --find-links /wheels" for a
# base that carries its own wheelhouse (a machine without a registry). TORCH_INDEX: where the CPU build of torch
# comes from (PyPI's default torch for Linux is the CUDA build, several GB).
ARG BASE_IMAGE=python:3.11-slim-bookworm
FROM ${BASE_IMAGE}

ARG PIP_ARGS=""
ARG TORCH_SPEC="torch>=2.4"
ARG TORCH_INDEX="https://download.pytorch.org/whl/cpu"
ARG EXTRAS="serve,solver"

ENV VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

RUN test -x /opt/venv/bin/python || python3 -m venv /opt/venv
RUN python -c "import torch" 2>/dev/null || pip install $PIP_ARGS --index-url "$TORCH_INDEX" "$TORCH_SPEC"

COPY pyproject.toml README.md LICENSE /src/
COPY jssp_sft /src/jssp_sft
RUN pip install $PIP_ARGS "/src[$EXTRAS]" && rm -rf /src/build

# A user without privileges; the model comes as a read-only volume at /model (or as a Hub id), the Hub cache in its
# home. Nothing else is written: jobs live in memory unless --jobs_dir names a (mounted) folder.
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin jssp
USER jssp
WORKDIR /home/jssp
ENV HF_HOME=/home/jssp/.cache/huggingface
VOLUME ["/model"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"]

ENTRYPOINT ["jssp-sft"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000", "--model", "/model"]
