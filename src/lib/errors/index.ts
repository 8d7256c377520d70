export { AppError, type ErrorIssue, notFound } from "./app-error";
