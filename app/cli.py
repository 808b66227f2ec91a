"""The `convene` command: accounts, tokens, migrations and the demo convening."""

import asyncio
import getpass
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer
from sqlmodel.ext.asyncio.session import AsyncSession

from app.config import ROOT, get_settings

cli = typer.Typer(help="Convene: facilitated multistakeholder convenings.", no_args_is_help=True)
T = TypeVar("T")


def _in_session(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one committed session against the configured database."""
    from app.db import commit, make_engine, make_sessionmaker

    async def runner() -> T:
        engine = make_engine(get_settings())
        try:
            async with make_sessionmaker(engine)() as session:
                result = await work(session)
                await commit(session)
                return result
        finally:
            await engine.dispose()

    return asyncio.run(runner())


@cli.command()
def migrate() -> None:
    """Bring the database schema up to date (alembic upgrade head)."""
    from alembic import command
    from alembic.config import Config

    command.upgrade(Config(str(ROOT / "alembic.ini")), "head")


@cli.command("create-convener")
def create_convener(
    email: str = typer.Option(..., help="Sign-in email"),
    name: str = typer.Option(..., help="Name shown to others"),
    password: str = typer.Option("", help="Password (asked for when omitted)", show_default=False),
) -> None:
    """Create a convener account."""
    from app.accounts.service import create_convener as create
    from app.errors import DomainError

    if not password:
        password = getpass.getpass("Password: ")
    if len(password) < 10:
        typer.echo("The password needs at least 10 characters.", err=True)
        raise typer.Exit(2)
    try:
        convener = _in_session(lambda s: create(s, email=email, name=name, password=password))
    except DomainError as error:
        typer.echo(error.message, err=True)
        raise typer.Exit(1) from None
    typer.echo(f"Created convener {convener.email}")


@cli.command("create-token")
def create_token(
    email: str = typer.Option(..., help="The convener the token acts for"),
    name: str = typer.Option("script", help="What the token is for"),
) -> None:
    """Issue an API bearer token for a convener (printed once)."""
    from sqlmodel import select

    from app.accounts.models import Convener
    from app.accounts.service import create_api_token, normalize_email

    async def work(session: AsyncSession) -> str | None:
        convener = (
            await session.exec(select(Convener).where(Convener.email == normalize_email(email)))
        ).first()
        if convener is None:
            return None
        _, token = await create_api_token(session, convener, name)
        return token

    token = _in_session(work)
    if token is None:
        typer.echo(f"No convener with email {email}", err=True)
        raise typer.Exit(1)
    typer.echo(token)


@cli.command()
def demo() -> None:
    """Load the demo roundtable (once) and print the links to open."""
    from app.demo import load_demo

    typer.echo(_in_session(lambda s: load_demo(s, get_settings())))


def main() -> None:
    """Entry point of the `convene` script."""
    cli()


if __name__ == "__main__":
    main()
