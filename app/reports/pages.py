"""HTML pages of the report-back: the reader page, the rapporteur's editor, the convener's
publishing and reach view, and the public page."""

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
