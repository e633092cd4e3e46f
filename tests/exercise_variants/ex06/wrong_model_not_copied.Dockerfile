# build: docker build -t ex06-variant-nomodel 06_context
# run: docker run -d -p 127.0.0.1:8000:8000 ex06-variant-nomodel
# fails with: the model not copied
# The code is copied file by file; the model is forgotten.
FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /app
COPY requirements.txt my_service.py ./
COPY penguins penguins
RUN python3 -m venv /opt/venv && pip install -r requirements.txt && useradd penguin
USER penguin
CMD ["uvicorn", "my_service:app", "--host", "0.0.0.0", "--port", "8000"]
