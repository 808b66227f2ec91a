"""HTML pages (filled in by the page modules of each domain)."""

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
