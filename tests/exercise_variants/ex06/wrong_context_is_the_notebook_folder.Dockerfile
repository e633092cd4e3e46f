# build: docker build -t ex06-variant-context -f 06_context/Dockerfile .
# tag: docker tag ex06-variant-context 127.0.0.1:5001/ex06-variant-context:1
# push: docker push 127.0.0.1:5001/ex06-variant-context:1
# run: docker run -d -p 127.0.0.1:8073:8000 127.0.0.1:5001/ex06-variant-context:1
# fails when run with: expected the build line to build the image; found it failed
# A right Dockerfile built from the notebook's folder: its COPY sources are not where it says.
FROM python:3.11-slim
WORKDIR /app
COPY requirements.txt .
RUN python3 -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir -r requirements.txt
ENV PATH=/opt/venv/bin:$PATH
COPY . .
RUN useradd --uid 10001 penguin
USER penguin
CMD ["uvicorn", "my_service:app", "--host", "0.0.0.0", "--port", "8000"]
