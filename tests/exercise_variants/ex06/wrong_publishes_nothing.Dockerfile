# build: docker build -t ex06-variant-unpublished 06_context
# run: docker run -d --name penguins ex06-variant-unpublished
# fails with: no -p (--publish)
FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /app
COPY . .
RUN python3 -m venv /opt/venv && pip install -r requirements.txt && useradd penguin
USER penguin
EXPOSE 8000
CMD ["uvicorn", "my_service:app", "--host", "0.0.0.0", "--port", "8000"]
