# build: docker build -t ex06-variant-root 06_context
# tag: docker tag ex06-variant-root 127.0.0.1:5001/ex06-variant-root:1
# push: docker push 127.0.0.1:5001/ex06-variant-root:1
# run: docker run -d -p 127.0.0.1:8063:8000 127.0.0.1:5001/ex06-variant-root:1
# fails with: found no USER: it runs as root
FROM python:3.11-slim
WORKDIR /app
COPY requirements.txt .
RUN python3 -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir -r requirements.txt
ENV PATH=/opt/venv/bin:$PATH
COPY . .
CMD ["uvicorn", "my_service:app", "--host", "0.0.0.0", "--port", "8000"]
