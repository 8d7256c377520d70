export { AppError, caught, type ErrorIssue, type ErrorResult, notFound, unwrap } from "./app-error";
