# build: docker build -t ex06-variant-heavy 06_context
# tag: docker tag ex06-variant-heavy 127.0.0.1:5001/ex06-variant-heavy:1
# push: docker push 127.0.0.1:5001/ex06-variant-heavy:1
# run: docker run -d -p 127.0.0.1:8067:8000 127.0.0.1:5001/ex06-variant-heavy:1
# fails with: found RUN (line 10) installs scikit-learn, gigabytes
# "Just in case": the notebook's libraries installed next to the service's.
FROM python:3.11-slim
WORKDIR /app
COPY requirements.txt .
RUN python3 -m venv /opt/venv && /opt/venv/bin/pip install -r requirements.txt scikit-learn pandas jupyterlab
ENV PATH=/opt/venv/bin:$PATH
COPY . .
RUN useradd penguin
USER penguin
CMD ["uvicorn", "my_service:app", "--host", "0.0.0.0", "--port", "8000"]
