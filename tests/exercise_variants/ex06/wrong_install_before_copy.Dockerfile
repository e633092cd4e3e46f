# build: docker build -t ex06-variant-early 06_context
# run: docker run -d -p 127.0.0.1:8000:8000 ex06-variant-early
# fails with: no earlier COPY puts a file at /app/requirements.txt
FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /app
RUN python3 -m venv /opt/venv && pip install -r requirements.txt && useradd penguin
COPY . .
USER penguin
CMD ["uvicorn", "my_service:app", "--host", "0.0.0.0", "--port", "8000"]
