"""Request bodies as the public documents print them (../shared/seeds), used verbatim."""

from __future__ import annotations

# The API guide's "more information" body; its JourneyData names a data point the workspace
# must have (the demo workspace does).
KOHOMAI_FULL = {
    "Email": "johndoe@gmail.com",
    "Firstname": "John",
    "Lastname": "Doe",
    "PhoneNumber": "+1 (800) 555\u20110175",
    "RedirectURL": "https://www.myapp.com",
    "JourneyData": [{"Name": "My datapoint", "Value": "example"}],
}

# The chatbot platform's lead API (seed 002): the JSON payload it documents, and the shorter body
# of its curl, JavaScript and Python examples.
CHATBOT_PAYLOAD = {
    "name": "John Doe",
    "email": "john.doe@example.com",
    "phone": "+1-555-123-4567",
    "source": "website",
    "status": "new",
    "metadata": {
        "utm_source": "google",
        "utm_campaign": "spring_2024",
        "interests": ["product_a", "product_b"],
        "company": "Tech Corp",
        "job_title": "Marketing Manager",
    },
}
CHATBOT_EXAMPLE = {
    "name": "John Doe",
    "email": "john.doe@example.com",
    "phone": "+1-555-123-4567",
    "source": "website",
    "status": "new",
    "metadata": {"utm_source": "google", "company": "Tech Corp"},
}

# Kohomai's older registration guide (POST /api/v1/journeys?ref=): the nested body. Its data point
# Id is the name the demo workspace's data point has; an id works too.
KOHOMAI_NESTED = {
    "Journey": {
        "User": {
            "Firstname": "John",
            "Lastname": "Doe",
            "ContactPrefs": {"Email": "johndoe@gmail.com"},
        },
        "JourneyData": [{"StringValue": "example", "DataPoint": {"Id": "My datapoint"}}],
    },
    "RedirectURL": "https://www.myapp.com",
}
# Kohomai's no-code (Bubble) guide posts this flat body to the same URL.
KOHOMAI_BUBBLE = {
    "Email": "johndoe@gmail.com",
    "Firstname": "John",
    "Lastname": "Doe",
    "PhoneNumber": "+1 (800) 555-0175",
}
