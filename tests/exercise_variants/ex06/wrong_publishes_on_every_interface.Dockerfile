# build: docker build -t ex06-variant-everywhere 06_context
# run: docker run -d -p 8000:8000 ex06-variant-everywhere
# fails with: -p 8000:8000, which publishes on every interface (0.0.0.0)
FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /app
COPY . .
RUN python3 -m venv /opt/venv && pip install -r requirements.txt && useradd penguin
USER penguin
CMD ["uvicorn", "my_service:app", "--host", "0.0.0.0", "--port", "8000"]
