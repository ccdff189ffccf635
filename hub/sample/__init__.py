"""Sample services that speak the Service API for real over HTTP, a demo catalog using them, and
demo traffic — what ``switchroom-hub serve --demo`` runs."""
