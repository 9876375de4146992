"""The domain core: instances, schedules, the Starjob codec, the verifier, schedule building and scoring.

Plain Python (numpy at most): no torch, transformers or ortools. Every other layer builds on it, never the reverse.
"""
