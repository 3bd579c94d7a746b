"""Alerts: what a channel renders (``message``), escaping of scraped text (``escape``), one module per channel
(``channels/``) and the email templates (``templates/``)."""
