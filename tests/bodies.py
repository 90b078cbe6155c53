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
