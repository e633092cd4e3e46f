# build: docker build -t ex06-variant-everywhere 06_context
# tag: docker tag ex06-variant-everywhere 127.0.0.1:5001/ex06-variant-everywhere:1
# push: docker push 127.0.0.1:5001/ex06-variant-everywhere:1
# run: docker run -d -p 8072:8000 127.0.0.1:5001/ex06-variant-everywhere:1
# fails when run with: 8000/tcp published on every interface (0.0.0.0)
# A right Dockerfile; the run line publishes the port to every network the machine is on.
FROM python:3.11-slim
WORKDIR /app
COPY requirements.txt .
RUN python3 -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir -r requirements.txt
ENV PATH=/opt/venv/bin:$PATH
COPY . .
RUN useradd --uid 10001 penguin
USER penguin
CMD ["uvicorn", "my_service:app", "--host", "0.0.0.0", "--port", "8000"]
