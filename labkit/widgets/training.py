"""A live monitor of a training run: loss and accuracy per epoch as the run goes on."""

from __future__ import annotations

import io

from matplotlib.figure import Figure

from ..foundation.validation import check_int
from ..plotting import plot_history
from ..training import History

__all__ = ["TrainingMonitor"]


class TrainingMonitor:
    """A `labkit.training.train` callback that redraws loss and accuracy curves while the run trains.

    Pass it as ``callback=``: it records every batch's loss, and every ``every`` batches and at
    each epoch's end it redraws `labkit.plotting.plot_history` into one display slot of the
    notebook (updated in place, so a committed notebook keeps the final picture). ``reference``
    (label → History) is drawn beside the live run, e.g. a finished baseline. It never stops a run.
    """
    def __init__(self, label: str = "SNN", *, max_epochs: int | None = None, every: int = 10,
                 reference: dict | None = None, show: bool = True):
        check_int("every", every, 1, unit="redraw every that many batches")
        self.label, self.max_epochs, self.every = label, max_epochs, every
        self.reference = dict(reference or {})
        self.show = show
        self.batch_loss: list[tuple[float, float]] = []
        self.history = None
        self.redraws = 0
        self._handle = None

    def __call__(self, event: dict) -> None:
        if event["kind"] == "batch":
            self.batch_loss.append((event["epoch"] + (event["batch"] + 1) / event["batches"], event["loss"]))
            if len(self.batch_loss) % self.every:
                return None
        else:
            self.history = event["history"]
        self._redraw()
        return None

    def figure(self) -> Figure:
        """The current picture: the live run's curves (and per-batch losses) beside the references."""
        runs = {self.label: self.history if self.history is not None else History(), **self.reference}
        fig = Figure(figsize=(9.5, 3.4), layout="constrained")
        epochs = len(self.history.loss) if self.history is not None else 0
        title = f"{self.label}: {len(self.batch_loss)} batches, {epochs} epoch{'s' if epochs != 1 else ''} done"
        return plot_history(runs, batch_loss=self.batch_loss, max_epochs=self.max_epochs, fig=fig, title=title)

    def _redraw(self) -> None:
        self.redraws += 1
        if not self.show:
            return
        from IPython.display import Image, display

        buf = io.BytesIO()
        self.figure().savefig(buf, format="png", dpi=80)
        image = Image(data=buf.getvalue(), format="png")
        if self._handle is None:
            self._handle = display(image, display_id=True)
        else:
            self._handle.update(image)
