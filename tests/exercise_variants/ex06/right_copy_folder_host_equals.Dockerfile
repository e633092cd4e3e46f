# build: docker build -t ex06-variant-right 06_context
# tag: docker tag ex06-variant-right 127.0.0.1:5001/ex06-variant-right:1
# push: docker push 127.0.0.1:5001/ex06-variant-right:1
# run: docker run --rm -d -p 127.0.0.1:8061:8000 127.0.0.1:5001/ex06-variant-right:1
# The whole folder in one COPY (its .dockerignore keeps out the rest), --host=0.0.0.0 in one word,
# the user made before the files arrive, the run line's options in another order.
FROM python:3.11-slim
WORKDIR /app
COPY requirements.txt .
RUN python3 -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir -r requirements.txt
ENV PATH=/opt/venv/bin:$PATH
RUN useradd --system --uid 10001 --no-create-home penguin
COPY . .
USER penguin
CMD ["uvicorn", "my_service:app", "--host=0.0.0.0", "--port=8000"]
