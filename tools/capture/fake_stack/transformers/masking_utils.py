from transformers import ALL_MASK_ATTENTION_FUNCTIONS, AttentionMaskInterface  # noqa: F401
