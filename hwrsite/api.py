"""The JSON API (/api/v1/): one NinjaAPI, validated by pydantic schemas, documented by OpenAPI."""
from ninja import NinjaAPI

api = NinjaAPI(
    title="hwr handwriting recognition API",
    version="1.0.0",
    description="Recognise handwritten digits and letters, and tell us when we were wrong.",
    urls_namespace="api",
)
