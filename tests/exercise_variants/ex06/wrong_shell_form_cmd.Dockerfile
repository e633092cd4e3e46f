# build: docker build -t ex06-variant-string -f 06_context/Dockerfile 06_context
# tag: docker tag ex06-variant-string 127.0.0.1:5001/ex06-variant-string:1
# push: docker push 127.0.0.1:5001/ex06-variant-string:1
# run: docker run --rm --detach -p 127.0.0.1:8064:8000 127.0.0.1:5001/ex06-variant-string:1
# fails with: found CMD (line 14) in shell form: /bin/sh is PID 1
# A string CMD: docker stop's SIGTERM goes to the shell, uvicorn is killed 10 s later.
FROM python:3.11-slim
ENV VIRTUAL_ENV=/opt/venv
ENV PATH /opt/venv/bin:$PATH
ADD requirements.txt /opt/
RUN python3 -m venv $VIRTUAL_ENV && pip install -q -r /opt/requirements.txt && useradd -r penguin
COPY . /opt/service/
USER penguin
CMD uvicorn --app-dir /opt/service my_service:app --host 0.0.0.0 --port 8000
