# build: docker image build -t ex06-variant-stages 06_context
# run: docker container run --detach --publish 127.0.0.1::8000 ex06-variant-stages
# A build stage for the venv, ENTRYPOINT plus CMD, uvicorn's default port, a numeric user.
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
COPY artifacts/mlp.onnx artifacts/mlp.onnx.json ./artifacts/
USER 10001
ENTRYPOINT ["python", "-m", "uvicorn"]
CMD ["my_service:app", "--host", "0.0.0.0"]
