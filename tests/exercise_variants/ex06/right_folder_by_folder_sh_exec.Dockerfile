# build: docker build --tag=ex06-variant-sh ./06_context/
# tag: docker image tag ex06-variant-sh:latest 127.0.0.1:5001/penguins/ex06-variant-sh:v1.0
# push: docker image push 127.0.0.1:5001/penguins/ex06-variant-sh:v1.0
# run: docker run -dp 127.0.0.1:8062:8000 --name ex06-variant-sh 127.0.0.1:5001/penguins/ex06-variant-sh:v1.0
# Each part copied on its own, a shell that execs uvicorn, short options run together, a
# repository with a namespace.
FROM python:3.11-slim
RUN python3 -m venv /opt/venv
COPY requirements.txt /tmp/requirements.txt
RUN /opt/venv/bin/pip install --no-cache-dir -r /tmp/requirements.txt
RUN useradd --create-home penguin
WORKDIR /home/penguin/app
COPY my_service.py ./
COPY penguins/ penguins/
COPY artifacts artifacts
USER penguin:penguin
CMD ["sh", "-c", "exec /opt/venv/bin/uvicorn my_service:app --host 0.0.0.0 --port 8000"]
