"""BLE transport tests: both sides over the Bumble host stack on virtual controllers."""
