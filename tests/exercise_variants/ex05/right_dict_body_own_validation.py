"""A dict body checked by hand before the wrapper sees it; errors as a JSONResponse of my own."""

from fastapi import Body, FastAPI
from fastapi.responses import JSONResponse

from penguins import PenguinPredictor

NUMBERS = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]

app = FastAPI()
predictor = PenguinPredictor.load()


def unreadable(record):
    """The first number field that holds text which is not a number, or None."""
    for field in NUMBERS:
        value = record.get(field)
        if isinstance(value, str) and value.strip():
            try:
                float(value.strip().replace(",", "."))
            except ValueError:
                return field
    return None


@app.post("/predict")
def predict(record: dict = Body(...)):
    field = unreadable(record)
    if field is not None:
        return JSONResponse({"error": f"{field} is not a number", "field": field}, status_code=400)
    return {"species": predictor.predict_one(record).species, "model": predictor.model_version}


@app.get("/health")
def health():
    return "fine"
