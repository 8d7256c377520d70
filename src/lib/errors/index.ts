export { AppError, caught, type ErrorBody, type ErrorIssue, type ErrorResult, envelopeOf, errorBody, notFound, unwrap } from "./app-error";
