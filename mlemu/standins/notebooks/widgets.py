"""``dbutils.widgets``: a notebook's input widgets and the parameters its run was given.

Widgets hold strings. A parameter passed to the run (a job's ``base_parameters``, the
``arguments`` of ``dbutils.notebook.run``, ``%run ./nb $x="1"``) overrides the widget's default
and is readable with ``get`` even when no widget of that name is created, as in a Databricks
job; a parameter outside a dropdown's choices is taken as given (MLOps Stacks passes
``env=dev`` to a dropdown of ``staging``/``prod``). A multiselect's value is its selected choices
joined by commas.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from mlemu.standins.notebooks.errors import InputWidgetNotDefined, WidgetError


@dataclass(frozen=True)
class Widget:
    kind: str                     # text, dropdown, combobox, multiselect
    default: str
    choices: tuple[str, ...] = ()
    label: str | None = None


def _not_defined(name: str) -> InputWidgetNotDefined:
    return InputWidgetNotDefined(f"No input widget named {name} is defined")


def as_parameters(values: Mapping[str, Any] | None) -> dict[str, str]:
    """Parameters as Databricks hands them to a notebook: strings (``None`` is refused)."""
    out: dict[str, str] = {}
    for key, value in (values or {}).items():
        if not isinstance(key, str):
            raise TypeError(f"Notebook parameter names must be strings, not {type(key).__name__}: {key!r}")
        if value is None:
            raise TypeError(f"Notebook parameter {key!r} is None; parameters are strings.")
        out[key] = value if isinstance(value, str) else ("true" if value is True else "false" if value is False
                                                        else str(value))
    return out


class Widgets:
    """The ``dbutils.widgets`` of one notebook run."""

    def __init__(self, parameters: Mapping[str, str] | None = None) -> None:
        self._widgets: dict[str, Widget] = {}
        self._layers: list[dict[str, str]] = [dict(parameters or {})]

    # -- creating --------------------------------------------------------------------------
    def text(self, name: str, defaultValue: str, label: str | None = None) -> None:
        """Create a text widget."""
        self._define(name, Widget("text", _text(defaultValue, "defaultValue"), (), label))

    def dropdown(self, name: str, defaultValue: str, choices: list[str], label: str | None = None) -> None:
        """Create a dropdown; the default must be one of ``choices``."""
        options = _choices(choices)
        default = _text(defaultValue, "defaultValue")
        if default not in options:
            raise WidgetError(f"Default value {default!r} of dropdown widget {name!r} is not one of its "
                              f"choices {list(options)}.")
        self._define(name, Widget("dropdown", default, options, label))

    def combobox(self, name: str, defaultValue: str, choices: list[str], label: str | None = None) -> None:
        """Create a combobox: a text box with suggested ``choices``."""
        self._define(name, Widget("combobox", _text(defaultValue, "defaultValue"), _choices(choices), label))

    def multiselect(self, name: str, defaultValue: str, choices: list[str], label: str | None = None) -> None:
        """Create a multiselect; ``get`` returns the selected choices joined by commas."""
        options = _choices(choices)
        default = _text(defaultValue, "defaultValue")
        if any(part not in options for part in default.split(",")):
            raise WidgetError(f"Default value {default!r} of multiselect widget {name!r} is not among its "
                              f"choices {list(options)}.")
        self._define(name, Widget("multiselect", default, options, label))

    # -- reading ---------------------------------------------------------------------------
    def get(self, name: str) -> str:
        """The widget's value: the run's parameter of that name, else the widget's default."""
        for layer in reversed(self._layers):
            if name in layer:
                return layer[name]
        widget = self._widgets.get(name)
        if widget is None:
            raise _not_defined(name)
        return widget.default

    def getAll(self) -> dict[str, str]:
        """Every widget and parameter with its current value."""
        names = list(self._widgets) + [n for layer in self._layers for n in layer if n not in self._widgets]
        return {name: self.get(name) for name in dict.fromkeys(names)}

    def getArgument(self, name: str, defaultValue: str | None = None) -> str | None:
        """Deprecated form of :meth:`get` that returns ``defaultValue`` for an unknown name."""
        try:
            return self.get(name)
        except InputWidgetNotDefined:
            if defaultValue is None:
                raise
            return defaultValue

    # -- removing --------------------------------------------------------------------------
    def remove(self, name: str) -> None:
        """Remove a widget; an unknown name is an error."""
        if name not in self._widgets:
            raise _not_defined(name)
        del self._widgets[name]

    def removeAll(self) -> None:
        """Remove every widget (parameters of the run stay readable)."""
        self._widgets.clear()

    # -- for the runtime -------------------------------------------------------------------
    def push(self, parameters: Mapping[str, str]) -> None:
        """Parameters of a notebook included with ``%run ... $x="1"`` (until :meth:`pop`)."""
        self._layers.append(dict(parameters))

    def pop(self) -> None:
        self._layers.pop()

    def definitions(self) -> dict[str, Widget]:
        return dict(self._widgets)

    def help(self) -> None:
        print("dbutils.widgets: text, dropdown, combobox, multiselect, get, getAll, getArgument, "
              "remove, removeAll")

    def _define(self, name: str, widget: Widget) -> None:
        _text(name, "name")
        self._widgets[name] = widget


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise WidgetError(f"The widget's {what} must be a string, not {type(value).__name__}: {value!r}")
    return value


def _choices(choices: Any) -> tuple[str, ...]:
    if isinstance(choices, str) or not isinstance(choices, (list, tuple)) or not choices:
        raise WidgetError(f"choices must be a non-empty list of strings, not {choices!r}")
    for choice in choices:
        _text(choice, "choices")
    return tuple(choices)
