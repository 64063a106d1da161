"""AWS Lambda entry points: thin handlers over the services the app uses."""
