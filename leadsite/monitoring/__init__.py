"""What an operator watches: request ids, structured logs and Prometheus metrics."""
