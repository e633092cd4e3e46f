# build: docker image build -t 127.0.0.1:5001/ex06-variant-stages:2 06_context
# tag: docker tag 127.0.0.1:5001/ex06-variant-stages:2 127.0.0.1:5001/ex06-variant-stages:latest
# push: docker push 127.0.0.1:5001/ex06-variant-stages:latest
# run: docker container run --detach --publish 127.0.0.1::8000 127.0.0.1:5001/ex06-variant-stages:latest
# A build stage for the venv, ENTRYPOINT plus CMD, uvicorn's default port, a numeric user; the
# build names the image for the registry at once, the tag adds a second name.
FROM python:3.11-slim AS build
COPY requirements.txt /build/
RUN python3 -m venv /opt/venv && /opt/venv/bin/pip install -r /build/requirements.txt

FROM python:3.11-slim
COPY --from=build /opt/venv /opt/venv
ENV PATH="/opt/venv/bin:$PATH"
WORKDIR /srv
WORKDIR penguins
COPY ["my_service.py", "./"]
COPY penguins ./penguins
COPY artifacts/*.onnx artifacts/*.json ./artifacts/
USER 10001
ENTRYPOINT ["python", "-m", "uvicorn"]
CMD ["my_service:app", "--host", "0.0.0.0"]
