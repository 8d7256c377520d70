export { AppError, notFound, type ErrorIssue } from "./app-error";
