# build: docker build -t ex06-variant-string -f 06_context/Dockerfile 06_context
# run: docker run --rm --detach -p 127.0.0.1:8001:8000 -e PENGUINS_LOG=json ex06-variant-string:latest
# A string CMD, the files in /opt/service without a WORKDIR, found through uvicorn's --app-dir.
FROM python:3.11-slim
ENV VIRTUAL_ENV=/opt/venv
ENV PATH /opt/venv/bin:$PATH
ADD requirements.txt /opt/
RUN python3 -m venv $VIRTUAL_ENV && pip install -q -r /opt/requirements.txt && useradd -r penguin
COPY . /opt/service/
USER penguin
CMD uvicorn --app-dir /opt/service my_service:app --host 0.0.0.0 --port 8000
