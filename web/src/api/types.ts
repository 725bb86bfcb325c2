/** Names for the schemas of the API contract (generated from ../openapi.yaml into schema.d.ts). */
import type { components } from './schema';

type Schemas = components['schemas'];

export type CurrentUser = Schemas['CurrentUser'];
export type CsrfToken = Schemas['CsrfToken'];
export type SignInRequest = Schemas['SignInRequest'];
export type TokenInfo = Schemas['TokenResponse'];
export type Dataset = Schemas['DatasetResponse'];
export type DatasetClass = Schemas['DatasetClass'];
export type Subset = Schemas['SubsetResponse'];
export type ImageRecord = Schemas['ImageResponse'];
export type ImagePage = Schemas['ImagePage'];
export type SynsetDetail = Schemas['SynsetDetail'];
export type SynsetRef = Schemas['SynsetRef'];
export type Model = Schemas['ModelResponse'];
export type CreateModelRequest = Schemas['CreateModelRequest'];
export type UploadPredictionsResponse = Schemas['UploadPredictionsResponse'];
export type PredictionSet = Schemas['PredictionSetResponse'];
export type PredictionUploadRecord = Schemas['PredictionUploadResponse'];
export type ReviewImage = Schemas['ReviewImage'];
export type ReviewLabel = Schemas['ReviewLabel'];
export type SubmitReviewResponse = Schemas['SubmitReviewResponse'];
export type ReviewProgress = Schemas['ReviewProgress'];
export type GuideNote = Schemas['GuideNote'];
export type HistoryEvent = Schemas['HistoryEvent'];
export type ItemState = Schemas['ItemStateResponse'];
export type LabelingTask = Schemas['LabelingTaskResponse'];
export type LabelingItem = Schemas['LabelingItem'];
export type AnswerResponse = Schemas['AnswerResponse'];
export type TrainingFeedback = Schemas['TrainingFeedback'];
export type SynsetSummary = Schemas['SynsetSummary'];
export type SynsetChild = Schemas['SynsetChild'];
export type GuideEntry = Schemas['GuideEntry'];
export type Leaderboard = Schemas['LeaderboardResponse'];
export type LeaderboardRow = Schemas['LeaderboardRow'];
export type ModelResults = Schemas['ModelResultsResponse'];
export type HardImages = Schemas['HardImagesResponse'];
