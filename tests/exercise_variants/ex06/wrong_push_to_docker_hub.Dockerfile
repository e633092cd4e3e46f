# build: docker build -t ex06-variant-hub 06_context
# tag: docker tag ex06-variant-hub ada/ex06-variant-hub:1
# push: docker push ada/ex06-variant-hub:1
# run: docker run -d -p 127.0.0.1:8069:8000 ada/ex06-variant-hub:1
# fails with: expected the push to the registry at 127.0.0.1:5001; found it pushes ada/ex06-variant-hub:1
# A name without a registry's address means Docker Hub: the push would leave this machine.
FROM python:3.11-slim
WORKDIR /app
COPY requirements.txt .
RUN python3 -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir -r requirements.txt
ENV PATH=/opt/venv/bin:$PATH
COPY . .
RUN useradd --uid 10001 penguin
USER penguin
CMD ["uvicorn", "my_service:app", "--host", "0.0.0.0", "--port", "8000"]
