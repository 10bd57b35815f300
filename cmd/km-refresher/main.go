// Command km-refresher is the bootstrap of the token refresher Lambda
// (provided.al2023): it reads the environment km apply sets on the function,
// builds the SSM client and hands lambda.Handler to the Lambda runtime.
package main

import (
	"context"
	"log"
	"log/slog"
	"os"

	awslambda "github.com/aws/aws-lambda-go/lambda"

	"github.com/klankermaker/km/lambda"
	"github.com/klankermaker/km/state"
)

func main() {
	// The runtime logs each failed invocation with the standard logger as
	// {"errorMessage","errorType"}: keep that line pure JSON like ours.
	log.SetFlags(0)
	cfg, err := lambda.ConfigFromEnv(os.Getenv)
	if err != nil {
		log.Fatal(err)
	}
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	aws, err := state.New(context.Background(), state.Options{Region: cfg.Region, Logger: lambda.SDKLogger(logger)})
	if err != nil {
		log.Fatal(err)
	}
	h := &lambda.Handler{
		SSM: aws, Invoker: aws, Prefix: cfg.Prefix, APIURL: cfg.APIURL,
		Function: os.Getenv("AWS_LAMBDA_FUNCTION_NAME"), // set by Lambda; "" falls back to the prefix's name
		Logger:   logger,
	}
	awslambda.Start(h.Handle)
}
