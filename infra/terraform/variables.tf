variable "subscription_id" {
  description = "Subscription to deploy into; null uses ARM_SUBSCRIPTION_ID or the Azure CLI's current subscription."
  type        = string
  default     = null
}

variable "environment_name" {
  description = "Name of the environment; part of every resource name and the azd-env-name tag."
  type        = string

  validation {
    condition     = length(var.environment_name) >= 1 && length(var.environment_name) <= 64
    error_message = "environment_name must be 1 to 64 characters."
  }
}

variable "location" {
  description = "Azure region of all regional resources; must offer Flex Consumption."
  type        = string
}

variable "resource_group_name" {
  description = "Name of the resource group to create; empty means rg-<environment_name>."
  type        = string
  default     = ""
}

variable "principal_id" {
  description = "Object ID of the user or service principal allowed to upload monitors and data (Storage Blob Data Contributor on the data account); empty for none."
  type        = string
  default     = ""
}

variable "principal_type" {
  description = "Type of principal_id: User for a person, ServicePrincipal for a pipeline."
  type        = string
  default     = "User"

  validation {
    condition     = contains(["User", "Group", "ServicePrincipal"], var.principal_type)
    error_message = "principal_type must be User, Group or ServicePrincipal."
  }
}

variable "instance_memory_mb" {
  description = "Memory of each function app instance in MB."
  type        = number
  default     = 2048

  validation {
    condition     = contains([512, 2048, 4096], var.instance_memory_mb)
    error_message = "instance_memory_mb must be 512, 2048 or 4096."
  }
}

variable "maximum_instance_count" {
  description = "Upper bound of instances the function app scales out to (per scale group): Flex Consumption allows 40 to 1000, default 100."
  type        = number
  default     = 100

  validation {
    condition     = var.maximum_instance_count >= 40 && var.maximum_instance_count <= 1000
    error_message = "maximum_instance_count must be between 40 and 1000 (Flex Consumption's allowed range)."
  }
}

variable "durable_always_ready" {
  description = "Always-ready instances of the durable group, so scheduled runs start without a cold start."
  type        = number
  default     = 1

  validation {
    condition     = var.durable_always_ready >= 0
    error_message = "durable_always_ready must not be negative."
  }
}

variable "task_hub_name" {
  description = "Durable Functions task hub name (TASKHUB_NAME)."
  type        = string
  default     = "monitoring"
}

variable "scheduler_schedule" {
  description = "Six-field NCRONTAB schedule, UTC, of the scheduler timer (SCHEDULER_SCHEDULE)."
  type        = string
  default     = "0 */5 * * * *"
}

variable "features_per_activity" {
  description = "Features computed per compute_signal activity (FEATURES_PER_ACTIVITY)."
  type        = number
  default     = 32

  validation {
    condition     = var.features_per_activity >= 1
    error_message = "features_per_activity must be at least 1."
  }
}

variable "alert_default_recipients" {
  description = "Comma-separated email recipients for monitors that list none (ALERT_DEFAULT_RECIPIENTS)."
  type        = string
  default     = ""
}

variable "report_url_pattern" {
  description = "Link to a run's folder in alert emails, with {monitor} and {fire_time} (REPORT_URL_PATTERN)."
  type        = string
  default     = ""
}

variable "mdc_root" {
  description = "Root URI of Azure ML model data collector output for endpoint targets (MDC_ROOT)."
  type        = string
  default     = ""
}

variable "email_data_location" {
  description = "Where Communication Services stores data at rest, e.g. \"United States\" or \"Europe\"."
  type        = string
  default     = "United States"
}

variable "data_retention_days" {
  description = "Days a deleted or overwritten blob on the data account stays recoverable."
  type        = number
  default     = 14

  validation {
    condition     = var.data_retention_days >= 1 && var.data_retention_days <= 365
    error_message = "data_retention_days must be between 1 and 365."
  }
}

variable "host_retention_days" {
  description = "Days a deleted blob or container on the host storage account stays recoverable."
  type        = number
  default     = 7

  validation {
    condition     = var.host_retention_days >= 1 && var.host_retention_days <= 365
    error_message = "host_retention_days must be between 1 and 365."
  }
}

variable "log_retention_days" {
  description = "Days Log Analytics keeps logs."
  type        = number
  default     = 30

  validation {
    condition     = var.log_retention_days >= 30 && var.log_retention_days <= 730
    error_message = "log_retention_days must be between 30 and 730."
  }
}

variable "activity_memory_mb" {
  description = "Memory budget of one compute_signal activity in MiB (ACTIVITY_MEMORY_MB); with host.json's two concurrent activities and the host's share it must fit instance_memory_mb."
  type        = number
  default     = 768

  validation {
    condition     = var.activity_memory_mb >= 1
    error_message = "activity_memory_mb must be a positive number of MiB."
  }
}
