# build: docker build -t ex06-variant-right 06_context
# run: docker run --rm -d -p 127.0.0.1:8000:8000 ex06-variant-right
# The whole folder in one COPY (its .dockerignore keeps out the rest), --host=0.0.0.0 in one word.
FROM python:3.11-slim

ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONUNBUFFERED=1 PATH=/opt/venv/bin:$PATH
WORKDIR /app
COPY requirements.txt .
RUN python3 -m venv /opt/venv && pip install --quiet -r requirements.txt
RUN useradd --system --uid 10001 --no-create-home penguin
COPY . .
USER penguin
CMD ["uvicorn", "my_service:app", "--host=0.0.0.0", "--port=8000"]
