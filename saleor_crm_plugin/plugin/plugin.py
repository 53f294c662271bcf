"""The in-process door: Saleor's ``BasePlugin``, with hooks built from a table.

Importable only inside Saleor (it subclasses Saleor's ``BasePlugin``); everything it does is in
``door.py``, ``events.py``, ``serializers.py`` and ``config.py``, which are tested without Saleor.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from saleor.plugins.base_plugin import BasePlugin, ConfigurationTypeField
from saleor.plugins.error_codes import PluginErrorCode

from ..tenants import store_settings as config
from .door import record_hook, remember_settings
from .events import HOOKS


class CRMPlugin(BasePlugin):
    PLUGIN_ID = "saleor.crm"
    PLUGIN_NAME = "CRM"
    PLUGIN_DESCRIPTION = (
        "Customer profiles in your base currency, loyalty, abandoned-checkout recovery and "
        "lifecycle messages in each customer's language and waking hours."
    )
    DEFAULT_ACTIVE = False
    # Global, with per-channel overrides in one setting: Saleor calls customer hooks only on
    # global plugins and on per-channel plugins of channels it happened to load, so a
    # per-channel plugin would miss customer changes.
    CONFIGURATION_PER_CHANNEL = False
    DEFAULT_CONFIGURATION = config.DEFAULT_CONFIGURATION
    CONFIG_STRUCTURE = {
        name: {
            "type": (
                ConfigurationTypeField.MULTILINE
                if name in (config.CHANNELS, config.MEDIA, config.WHATSAPP_TEMPLATES)
                else ConfigurationTypeField.STRING
            ),
            "label": label,
            "help_text": help_text,
        }
        for name, (label, help_text) in config.HELP.items()
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.settings = config.parse(self.configuration)

    @classmethod
    def validate_plugin_configuration(cls, plugin_configuration: Any, **kwargs: Any) -> None:
        problems = config.errors(plugin_configuration.configuration)
        if problems:
            raise ValidationError(
                {
                    field: ValidationError(message, code=PluginErrorCode.INVALID.value)
                    for field, message in problems.items()
                }
            )

    @classmethod
    def pre_save_plugin_configuration(cls, plugin_configuration: Any) -> None:
        """Saleor validated the settings and is about to save them: the CRM keeps a copy."""
        remember_settings(plugin_configuration.configuration)

    def webhook(self, request: Any, path: str, previous_value: Any) -> Any:
        """The CRM's GraphQL under ``/plugins/saleor.crm/graphql/`` (same resolvers as the app),
        the dashboard pages under ``/plugins/saleor.crm/dashboard/``, the Stripe door under
        ``/plugins/saleor.crm/stripe/webhooks``, and the pages our messages link to
        (unsubscribe, consent confirmation, feedback) and the SMS/WhatsApp callbacks."""
        if not self.active:
            return previous_value
        if (path or "").strip("/") == "graphql":
            from ..graphql.views import graphql_view

            return graphql_view(request)
        if (path or "").strip("/").startswith("dashboard") and request.method == "GET":
            from .door import dashboard_page

            return dashboard_page(request, (path or "").strip("/"))
        if (path or "").strip("/") == "stripe/webhooks" and request.method == "POST":
            from .door import stripe_webhook

            return stripe_webhook(request, self.settings)
        from .door import public_page

        page = public_page(request, path or "")
        return previous_value if page is None else page


def _hook(name: str) -> Callable[..., Any]:
    def hook(
        self: CRMPlugin, obj: Any, previous_value: Any = None, *args: Any, **kwargs: Any
    ) -> Any:
        if self.active:
            record_hook(name, obj, self.settings)
        return previous_value

    hook.__name__ = name
    hook.__doc__ = f"Saleor's ``{name}``: recorded in the CRM inbox, never raising."
    return hook


for _name in HOOKS:
    setattr(CRMPlugin, _name, _hook(_name))
