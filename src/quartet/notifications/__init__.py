"""Messages to users (email, SMS, WhatsApp) through a PostgreSQL outbox and a dispatcher."""
