"""The appliance side: the network module that bridges an appliance's MCU to the hub."""
