# build: docker build -t ex06-variant-context -f 06_context/Dockerfile .
# run: docker run -d -p 127.0.0.1:8000:8000 ex06-variant-context
# fails with: the build context (the build line's last word) to be the folder 06_context
# A good Dockerfile, built from the notebook's folder: its COPY sources are not where it says.
FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /app
COPY . .
RUN python3 -m venv /opt/venv && pip install -r requirements.txt && useradd penguin
USER penguin
CMD ["uvicorn", "my_service:app", "--host", "0.0.0.0", "--port", "8000"]
