"""The datasets page: every dataset with its publisher, licence, source and size."""

from dataclasses import dataclass, field

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from tidetrace.store.datasets import list_datasets
from tidetrace.web.context import doc
from tidetrace.web.deps import READ, ActorDep, WorkspaceDep
from tidetrace.web.render import render_page
from tidetrace.workspace import Workspace

__all__ = ["DatasetRow", "DatasetsContext", "build_datasets", "router"]

router = APIRouter()


@dataclass
class DatasetRow:
    """One dataset and how many entities it holds."""

    name: str = field(metadata=doc("Machine name, e.g. un_sc."))
    title: str = field(metadata=doc("Human title."))
    publisher: str | None = field(metadata=doc("Who publishes the source."))
    licence: str | None = field(metadata=doc("The source's licence or terms."))
    url: str | None = field(metadata=doc("Where the source can be had."))
    retrieved: str | None = field(metadata=doc("When the source was retrieved (ISO date)."))
    summary: str | None = field(metadata=doc("What the dataset holds, in a paragraph."))
    entities: int = field(metadata=doc("How many entities the dataset holds."))


@dataclass
class DatasetsContext:
    """What the datasets page and ``GET /api/datasets`` show."""

    datasets: list[DatasetRow] = field(metadata=doc("Every dataset, by name."))


def build_datasets(ws: Workspace) -> DatasetsContext:
    """Fill the datasets page's context."""
    with ws.engine.connect() as conn:
        rows = list_datasets(conn)
    return DatasetsContext(
        datasets=[
            DatasetRow(
                name=info.name,
                title=info.title,
                publisher=info.publisher,
                licence=info.licence,
                url=info.url,
                retrieved=info.retrieved,
                summary=info.summary,
                entities=count,
            )
            for info, count in rows
        ]
    )


@router.get(
    "/datasets",
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(READ)],
)
def datasets_page(request: Request, ws: WorkspaceDep, actor: ActorDep) -> HTMLResponse:
    """Every dataset and where its data came from."""
    ctx = build_datasets(ws)
    return render_page(request, "datasets.html", ctx, title="Datasets", actor=actor)
