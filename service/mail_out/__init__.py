"""Outbound mail: composing messages from templates (`compose`) and handing them on (`senders`)."""
