"""organized-gateway: an OpenAI-compatible LLM API gateway for Python Workers."""
