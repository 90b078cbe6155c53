"""Dialects: the lead APIs of the systems leadsite replaces, each a thin module that turns its
request into a `LeadInput` for `register()` and the result into its own answer.

- `kohomai`: `POST /api/v1/journeys?ref=` (the nested and the flat body), `POST /api/v1/sessions`,
  `GET /api/v1/journeys`, `GET /api/v1/workflows` (`/api/v1/leads?ref=` is `api.leads`).
- `chatbot`: `POST /api/v1/chatbots/<chatbotId>/leads`, and its body on `POST /api/v1/leads`.
- `vcita`: `POST /platform/v1/leadgen`, on its own blueprint (`vcita.bp`).
- `kickofflabs`: `POST /v2/<campaign>[/]`, `POST /v1/<campaign>/subscribe`,
  `GET /v1/<campaign>/info`, on its own blueprint (`kickofflabs.bp`).
- `doors`: what they share (the origin by ref or the workspace's default).
"""
