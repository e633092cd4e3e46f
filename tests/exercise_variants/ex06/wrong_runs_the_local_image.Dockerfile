# build: docker build -t ex06-variant-local 06_context
# tag: docker tag ex06-variant-local 127.0.0.1:5001/ex06-variant-local:1
# push: docker push 127.0.0.1:5001/ex06-variant-local:1
# run: docker run -d -p 127.0.0.1:8070:8000 ex06-variant-local
# fails with: expected the run line to start what the push line pushed, 127.0.0.1:5001/ex06-variant-local:1
# The server runs what the registry holds, not what was built on this laptop.
FROM python:3.11-slim
WORKDIR /app
COPY requirements.txt .
RUN python3 -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir -r requirements.txt
ENV PATH=/opt/venv/bin:$PATH
COPY . .
RUN useradd --uid 10001 penguin
USER penguin
CMD ["uvicorn", "my_service:app", "--host", "0.0.0.0", "--port", "8000"]
