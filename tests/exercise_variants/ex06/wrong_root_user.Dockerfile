# build: docker build -t ex06-variant-root 06_context
# run: docker run -d -p 127.0.0.1:8000:8000 ex06-variant-root
# fails with: no USER: the service runs as root
FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /app
COPY . .
RUN python3 -m venv /opt/venv && pip install -r requirements.txt
CMD ["uvicorn", "my_service:app", "--host", "0.0.0.0", "--port", "8000"]
