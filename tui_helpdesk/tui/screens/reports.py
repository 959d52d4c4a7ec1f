"""F3: the dashboard. The backlog and created/closed per day as lines, the breakdown as bars, a table under
the charts; `p` picks the period, `b` the breakdown, `E` exports the tables (CSV or JSON).

Every figure comes from services/reports.py in one read, in a thread worker (a screen runs no query of
its own); the screen re-reads when the change counter moves (`data_changed`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Label, Static
from textual_plotext import PlotextPlot

from tui_helpdesk.resources import styles_dir
from tui_helpdesk.tui.context import ctx_of
from tui_helpdesk.tui.widgets.footer import Footer
from tui_helpdesk.untrusted import clean_line

PERIOD_CHOICES = ("today", "7d", "30d", "month", "custom…")
BY_CHOICES = ("none", "department", "agent", "team", "topic", "organization", "priority")
BREAKDOWN_COLUMNS = (
    ("created", "Created"), ("closed", "Closed"), ("reopened", "Reopened"), ("backlog", "Backlog now"),
    ("overdue", "Overdue"), ("first_response_median", "1st resp. med"), ("first_response_p90", "1st resp. p90"),
    ("resolution_median", "Resol. med"), ("resolution_p90", "Resol. p90"), ("sla_met", "SLA met"),
    ("sla_breached", "SLA breached"), ("replies", "Replies"), ("minutes_logged", "Time"),
)
class ReportsScreen(Screen[None]):
    CSS_PATH = str(styles_dir() / "reports.tcss")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "back", "Back", id="reports.back"),
        Binding("p", "pick_period", "Period", id="reports.period"),
        Binding("b", "pick_by", "Breakdown", id="reports.by"),
        Binding("E", "export", "Export", id="reports.export"),
        Binding("r", "refresh", "Refresh", id="reports.refresh", show=False),
    ]

    def __init__(self, period: str = "30d", by: str | None = "department") -> None:
        super().__init__(id="reports")
        self.period_name = period
        self.custom: tuple[str, str] | None = None
        self.by = by
        self.report: Any = None
        self.error = ""

    def compose(self) -> ComposeResult:
        yield Label("", id="reports-title", markup=False)
        with VerticalScroll(id="reports-body"):
            with Horizontal(id="reports-lines"):
                yield PlotextPlot(id="chart-backlog", classes="chart")
                yield PlotextPlot(id="chart-flow", classes="chart")
            yield DataTable(id="table-days", classes="report-table", zebra_stripes=True, cursor_type="row")
            yield PlotextPlot(id="chart-by", classes="chart")
            yield DataTable(id="table-by", classes="report-table", zebra_stripes=True, cursor_type="row")
        yield Static("", id="reports-message", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.load()

    # --- reading -------------------------------------------------------------------------------

    def _period(self) -> Any:
        from tui_helpdesk.services import reports

        if self.period_name == "custom" and self.custom:
            return reports.period(start=self.custom[0], end=self.custom[1])
        return reports.period(self.period_name)

    def load(self) -> None:
        ctx = ctx_of(self)
        by = None if self.by in (None, "none") else self.by

        def work() -> None:
            from tui_helpdesk.services import door, reports
            from tui_helpdesk.services.errors import ServiceError

            try:
                rep = door.read(ctx.engine, ctx.actor, reports.report, self._period(), by, with_days=True)
            except ServiceError as exc:
                self.app.call_from_thread(self._failed, str(exc))
                return
            self.app.call_from_thread(self._show, rep)

        self.query_one("#reports-message", Static).update("Loading…")
        self.run_worker(work, thread=True, group="reports", exclusive=True, exit_on_error=False)

    def data_changed(self) -> None:
        self.load()

    def _failed(self, message: str) -> None:
        self.query_one("#reports-message", Static).update(clean_line(message))

    def _show(self, rep: Any) -> None:
        self.report = rep
        by = rep.by or "no breakdown"
        p = rep.period
        span = f"{p.first} to {p.last}"
        shown = span if p.label == span else f"{p.label} ({span})"
        self.query_one("#reports-title", Label).update(f"Reports · {shown} · by {by}")
        self._lines(rep)
        self._days_table(rep)
        self._bars(rep)
        self._by_table(rep)
        from tui_helpdesk.services.reports import format_minutes

        t = rep.total
        self.query_one("#reports-message", Static).update(
            f"{t.created} created, {t.closed} closed, {t.reopened} reopened; now {t.backlog} in the backlog, "
            f"{t.overdue} overdue; first response {format_minutes(t.first_response_median)} median; "
            f"SLA {t.sla_met} met, {t.sla_breached} breached"
        )

    # --- drawing -------------------------------------------------------------------------------

    def _lines(self, rep: Any) -> None:
        days = rep.days
        xs = list(range(1, len(days) + 1))
        step = max(1, len(days) // 6)
        ticks = xs[::step]
        tick_labels = [days[i - 1].day.strftime("%m-%d") for i in ticks]
        backlog = self.query_one("#chart-backlog", PlotextPlot)
        plt = backlog.plt
        plt.clear_figure()
        plt.title("Backlog at the end of each day")
        if days:
            plt.plot(xs, [d.backlog for d in days], marker="braille")
            plt.xticks(ticks, tick_labels)
        backlog.refresh()
        flow = self.query_one("#chart-flow", PlotextPlot)
        plt = flow.plt
        plt.clear_figure()
        plt.title("Created and closed per day")
        if days:
            plt.plot(xs, [d.created for d in days], label="created", marker="braille")
            plt.plot(xs, [d.closed for d in days], label="closed", marker="braille")
            plt.xticks(ticks, tick_labels)
        flow.refresh()

    def _bars(self, rep: Any) -> None:
        chart = self.query_one("#chart-by", PlotextPlot)
        chart.display = bool(rep.by)
        plt = chart.plt
        plt.clear_figure()
        if not rep.by:
            return
        top = sorted(rep.rows, key=lambda r: -(r.created + r.backlog))[:8]
        names = [clean_line(r.label)[:14] for r in top]
        plt.title(f"Created, closed and backlog by {rep.by} (top {len(top)})")
        if top:
            plt.multiple_bar(names, [[r.created for r in top], [r.closed for r in top], [r.backlog for r in top]],
                             labels=["created", "closed", "backlog"])
        chart.refresh()

    def _days_table(self, rep: Any) -> None:
        table = self.query_one("#table-days", DataTable)
        table.clear(columns=True)
        table.add_columns("Day", "Created", "Closed", "Reopened", "Backlog")
        for d in reversed(rep.days):  # newest first: the chart above reads left to right
            table.add_row(d.day.isoformat(), d.created, d.closed, d.reopened, d.backlog)

    def _by_table(self, rep: Any) -> None:
        from tui_helpdesk.services.reports import DURATION_COLUMNS, format_minutes

        table = self.query_one("#table-by", DataTable)
        table.clear(columns=True)
        table.add_columns((rep.by or "All").capitalize(), *(title for _, title in BREAKDOWN_COLUMNS))
        for row in [*rep.rows, rep.total]:
            cells = [format_minutes(getattr(row, k), days=k != "minutes_logged") if k in DURATION_COLUMNS else getattr(row, k) for k, _ in BREAKDOWN_COLUMNS]
            table.add_row(clean_line(row.label), *cells)

    # --- actions -------------------------------------------------------------------------------

    def action_back(self) -> None:
        self.dismiss(None)

    def action_refresh(self) -> None:
        self.load()

    def action_pick_period(self) -> None:
        from tui_helpdesk.tui.screens.queue_dialogs import PickScreen, PromptScreen

        def picked(value: str | None) -> None:
            if value is None:
                return
            if value.startswith("custom"):
                self.app.push_screen(PromptScreen("From and to (YYYY-MM-DD YYYY-MM-DD)",
                                                  placeholder="2026-03-01 2026-03-31"), custom)
                return
            self.period_name = value
            self.load()

        def custom(value: str | None) -> None:
            parts = (value or "").split()
            if len(parts) != 2:
                if value:
                    self.notify("Type two dates: from and to (YYYY-MM-DD YYYY-MM-DD)", severity="error")
                return
            self.period_name, self.custom = "custom", (parts[0], parts[1])
            self.load()

        self.app.push_screen(PickScreen("Period", list(PERIOD_CHOICES)), picked)

    def action_pick_by(self) -> None:
        from tui_helpdesk.tui.screens.queue_dialogs import PickScreen

        def picked(value: str | None) -> None:
            if value is not None:
                self.by = None if value == "none" else value
                self.load()

        self.app.push_screen(PickScreen("Break down by", list(BY_CHOICES)), picked)

    def action_export(self) -> None:
        from tui_helpdesk.tui.screens.queue_dialogs import PromptScreen

        if self.report is None:
            return
        self.app.push_screen(
            PromptScreen("Export the tables to (a .json file, or .csv: the days go beside it)",
                         placeholder="~/report.csv"),
            self.export,
        )

    def export(self, path_text: str | None) -> None:
        """Write the breakdown and day tables: JSON in one file; CSV as PATH and PATH-days.csv."""
        from tui_helpdesk.services import reports

        if not path_text or self.report is None:
            return
        path = Path(path_text).expanduser()
        if not path.parent.is_dir():
            self.notify(f"Export refused: the directory {clean_line(str(path.parent))} does not exist",
                        severity="error")
            return
        if path.is_dir():
            self.notify(f"Export refused: {clean_line(str(path))} is a directory; name a file", severity="error")
            return
        rep = self.report
        try:
            if path.suffix.lower() == ".json":
                path.write_text(json.dumps(reports.export_json(rep), indent=2) + "\n", encoding="utf-8")
                written = [path]
            else:
                days = path.with_name(f"{path.stem}-days{path.suffix or '.csv'}")
                path.write_text(reports.to_csv(reports.as_table(rep)), encoding="utf-8")
                days.write_text(reports.to_csv(reports.days_table(rep)), encoding="utf-8")
                written = [path, days]
        except OSError as exc:
            self.notify(f"Export failed: {clean_line(str(exc))}", severity="error")
            return
        self.notify("Exported to " + ", ".join(clean_line(str(p)) for p in written))
