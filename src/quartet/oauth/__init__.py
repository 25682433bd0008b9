"""Social login by browser redirect: Google, GitHub and any OpenID Connect provider."""
