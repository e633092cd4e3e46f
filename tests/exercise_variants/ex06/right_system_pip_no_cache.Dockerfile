# build: docker build -t ex06-variant-system 06_context
# tag: docker tag ex06-variant-system 127.0.0.1:5001/ex06-variant-system:1
# push: docker push 127.0.0.1:5001/ex06-variant-system:1
# run: docker run --rm -d -p 127.0.0.1:8066:8000 127.0.0.1:5001/ex06-variant-system:1
FROM python:3.11-slim
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN useradd --uid 10001 penguin
USER penguin
CMD ["uvicorn", "my_service:app", "--host", "0.0.0.0", "--port", "8000"]
