from transformers import ALL_ATTENTION_FUNCTIONS, AttentionInterface  # noqa: F401
