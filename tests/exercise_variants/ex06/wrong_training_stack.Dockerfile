# build: docker build -t ex06-variant-heavy 06_context
# run: docker run -d -p 127.0.0.1:8000:8000 ex06-variant-heavy
# fails with: the training stack: RUN (line 9) installs scikit-learn
# "Just in case": the notebook's libraries installed next to the service's.
FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /app
COPY . .
RUN python3 -m venv /opt/venv && pip install -r requirements.txt scikit-learn pandas jupyterlab
RUN useradd penguin
USER penguin
CMD ["uvicorn", "my_service:app", "--host", "0.0.0.0", "--port", "8000"]
